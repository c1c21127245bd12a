"""Outbound calls: `dialflow dial` and the server's `POST /calls` place a call through
Twilio's REST API that connects to the same media stream as an inbound call (desk.py keeps
the calls being placed, routes.py the endpoint and Twilio's webhooks, call_vars.py checks
`--var`s against the flow's `vars:`). Part of the composition root."""
