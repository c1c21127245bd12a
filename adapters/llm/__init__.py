"""What the cloud LLM brains share, free of any provider SDK.

`conversation` keeps each call's history
(trimmed to what the caller heard); `prompt` builds the provider-neutral prompt (system
prompt, date and retrieved knowledge, messages); `tools` assembles the tool list with the
flow's own tools; `streaming` is the respond loop with retries both brains run; `config`
reads `settings.llm` and the API key; `errors` the exceptions (backoff: `adapters.retry`;
sentence splitting: `engine.sentences`).
The provider adapters (`adapters.anthropic`, `adapters.openai`) turn these into requests.
Nothing here does I/O except through the retriever it is given.
"""
