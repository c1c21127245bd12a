"""Turn-taking policy, provider-neutral: when a caller's turn has ended (transcript
completeness plus an optional audio turn model), how a barge-in is paused, confirmed or
resumed, and the reply speculated at a pause (used on commit, else dropped without a trace).
Adapters feed it; it imports flows/ and the engine's ports only."""
