"""`dialflow dial`'s bad input: each is one line on stderr and exit 2, before anything
starts (no server, no request to Twilio), never a traceback."""

from __future__ import annotations

import pytest

from engine.app.cli import main
from tests.server.harness import ROOT

FLOW = str(ROOT / "examples" / "reminders.yaml")
GOOD_ENV = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
            "DIALFLOW_DIAL_FROM": "+15550100100",
            "DIALFLOW_PUBLIC_URL": "https://calls.example.com"}


def _dial(monkeypatch, capsys, argv: list[str], **env: str | None) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    for name, value in {**GOOD_ENV, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    code = main(["dial", *argv])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return code, err


@pytest.mark.parametrize(("argv", "env", "says"), [
    (["5551230001"], {}, "is not E.164"),
    (["+15551230001", "--var", "patient_nme=Ana"], {},
     "unknown variable 'patient_nme'"),
    (["+15551230001", "--var", "patient_name"], {}, "is not name=value"),
    (["+15551230001"], {"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID is not set"),
    (["+15551230001"], {"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN is not set"),
    (["+15551230001"], {"DIALFLOW_DIAL_FROM": None}, "the number to call from"),
    (["+15551230001"], {"DIALFLOW_PUBLIC_URL": None}, "DIALFLOW_PUBLIC_URL is not set"),
])
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, argv, env, says) -> None:  # type: ignore[no-untyped-def]
    code, err = _dial(monkeypatch, capsys, [*argv, "--flow", FLOW], **env)
    assert code == 2
    assert err.startswith("dialflow dial: ") and says in err


def test_an_unknown_var_names_the_declared_one(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _, err = _dial(monkeypatch, capsys,
                   ["+15551230001", "--flow", FLOW, "--var", "patient_nme=Ana"])
    assert "did you mean 'patient_name'?" in err


def test_serve_places_calls_only_when_everything_it_needs_is_set(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from adapters.twilio.signature import SignatureSettings
    from engine.app.outbound.desk import desk_for

    def services(public_url: str | None, twilio: object) -> SimpleNamespace:
        return SimpleNamespace(twilio=twilio, flows=SimpleNamespace(current=lambda: None),
                               signatures=SimpleNamespace(settings=SignatureSettings(
                                   auth_token="t", public_url=public_url)))

    env = {"DIALFLOW_DIAL_FROM": "+15550100100"}
    assert desk_for(services("https://calls.example.com", None), env) is None
    assert desk_for(services(None, object()), env) is None
    assert desk_for(services("https://calls.example.com", object()), {}) is None
    desk = desk_for(services("https://calls.example.com/", object()), env)
    assert desk is not None and desk.base_url == "https://calls.example.com"
    assert desk.from_number == "+15550100100"
