"""The offline speech stack: whisper speech-to-text, piper text-to-speech, silero VAD.

Everything here runs on this machine from models installed as Python packages; nothing
downloads at run time and no API key is needed.

- `models`     process-wide, lazily loaded, thread-safe whisper model, piper voice and VAD pool
- `workers`    the shared worker threads that run model inference off the event loop
- `vad`        `EndPointer`: 8 kHz mu-law frames -> speech started / utterance ended
- `transcribe` blocking whisper call: one utterance's mu-law audio -> text and confidence
- `whisper_window` one greedy whisper decode in an encoder window sized to the turn (not 30 s)
- `stt`        `LocalWhisperStt`, the `SttProvider` (VAD inline, whisper in a worker)
- `clauses`    splitting a reply into sentences and clauses so speech starts early
- `tts`        `LocalPiperTts`, the `TtsProvider` (piper in a worker, 8 kHz mu-law out)
- `clause_cache` `ClauseCache`: clauses piper already rendered, bounded in bytes (LRU)
- `runtime`    onnxruntime session options of the local models (threads, no spinning)
- `measure`    `python -m adapters.local.measure`: latency figures on this machine

Only `engine.media` (the interfaces), `engine.audio_format` (the format) and
`adapters.audio.mulaw` (the codec) are imported from the project.
"""
