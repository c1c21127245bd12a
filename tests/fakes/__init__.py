"""Fakes of outside services for tests: local servers and scripted stand-ins, never the internet."""
