"""The offline end-of-turn model (Smart Turn v3.2, ONNX) and its audio front end."""
