"""ElevenLabs text-to-speech: the only package that imports the `elevenlabs` SDK.

- `settings` the API key (from `ELEVENLABS_API_KEY` only), voice, model and host
- `retry`    which failures are transient (the backoff itself is `adapters.retry`)
- `tts`      `ElevenLabsTts`, the `TtsProvider` streaming ulaw_8000 over HTTP

Nothing here opens a connection on import.
"""
