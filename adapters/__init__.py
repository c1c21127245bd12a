"""Adapters to outside services (telephony, speech, LLM and embedding providers).

Provider SDKs are imported only under this package; the rest of dialflow talks to the
interfaces the adapters implement.
"""
