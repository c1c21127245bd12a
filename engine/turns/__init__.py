"""Turn-taking policy, provider-neutral: when a caller's turn has ended (transcript
completeness plus an optional audio turn model) and how a barge-in is paused, confirmed or
resumed. Adapters feed it; it imports flows/ only."""
