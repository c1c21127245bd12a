"""Provider-neutral text-to-speech helpers, composed around any `TtsProvider`.

- `streams`      calling a provider's `synthesize` (with the call id when it takes one),
                 and cutting audio into 20 ms frames
- `audio_store`  audio files on disk, written atomically and checked when read
- `prompt_cache` `CachedPrompts`: static prompts synthesized once, served from disk
- `fallback`     `FallbackTts`: the next provider speaks a sentence the previous one could not

Nothing here imports a provider SDK.
"""
