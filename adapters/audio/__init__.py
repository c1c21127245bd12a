"""Audio helpers shared by several adapters (never one provider's): the mu-law codec and
resampler in `mulaw`. The format constants and framing are `engine.audio_format`."""
