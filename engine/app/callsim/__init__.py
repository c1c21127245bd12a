"""The simulated phone call behind `dialflow call`: a Twilio-side caller that places a call
through the real webhook and Media Streams protocol, speaks its lines, listens, measures
per-turn latency and can record both sides to a stereo WAV."""
