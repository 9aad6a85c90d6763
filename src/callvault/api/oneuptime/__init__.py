"""The OneUptime-style face: incoming call policies' Twilio webhooks and the generic read API
over incoming call logs, their items, policies and escalation rules."""

from __future__ import annotations

from fastapi import APIRouter

from callvault.api.oneuptime.routes import router as _read_api
from callvault.api.oneuptime.twilio import router as _twilio

router = APIRouter()
router.include_router(_read_api)
router.include_router(_twilio)
