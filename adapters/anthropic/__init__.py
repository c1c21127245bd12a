"""Anthropic adapters: the only place the `anthropic` SDK is imported.

`brain.ClaudeBrain` is the engine's `Brain` over Claude's streaming Messages API;
`messages` turns the shared, provider-neutral prompt into that API's request. The API key
comes from the environment mapping the brain is given; it is never logged or stored
outside the SDK client.
"""
