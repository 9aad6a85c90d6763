"""TwiML answers of the escalation webhooks: greet, dial the next user, or say a message and
hang up (the documents OneUptime's engine returns, reference §2.1, plus per-attempt status
callbacks so callvault learns when the phone rings and when it is answered)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from callvault.services.escalation import DialInstruction, HangupInstruction

HEADER = '<?xml version="1.0" encoding="UTF-8"?>'
ATTEMPT_EVENTS = "initiated ringing answered completed"


def _say(text: str | None) -> str:
    return f'<Say voice="alice">{escape(text)}</Say>' if text else ""


def dial(step: DialInstruction, action_url: str, attempt_status_url: str) -> str:
    caller_id = f" callerId={quoteattr(step.caller_id)}" if step.caller_id else ""
    number = (
        f"<Number statusCallbackEvent={quoteattr(ATTEMPT_EVENTS)} "
        f'statusCallback={quoteattr(attempt_status_url)} statusCallbackMethod="POST">'
        f"{escape(step.number)}</Number>"
    )
    return (
        f"{HEADER}<Response>{_say(step.say)}"
        f'<Dial action={quoteattr(action_url)} method="POST" timeout="{step.timeout}"'
        f"{caller_id}>{number}</Dial></Response>"
    )


def hangup(step: HangupInstruction | None = None) -> str:
    return f"{HEADER}<Response>{_say(step.say if step else None)}<Hangup/></Response>"


def empty() -> str:
    return f"{HEADER}<Response/>"
