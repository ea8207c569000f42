"""Agents' sign-in (``/v1/session``): email and password in, Cognito's tokens out,
so a browser or the CLI needs no AWS SDK.

``POST /v1/session`` answers the tokens, or — on the first sign-in, with the
temporary password an admin handed over — the ``NEW_PASSWORD_REQUIRED``
challenge, which ``POST /v1/session/password`` answers with the agent's own
password. ``POST /v1/session/refresh`` trades the refresh token for new ID and
access tokens. No key is needed here; a wrong email and a wrong password get the
same 401 (:mod:`chalicelib.agents.pool`), and Cognito's own lockout slows guessing.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel
from switchboard_sdk import NotFound

from ..agents.pool import SessionTokens, UserPool
from .calls import ApiCall

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,253}$"  # Cognito checks the rest
NOT_SET_UP = "agent sign-in is not set up on this hub"
M = TypeVar("M", bound=BaseModel)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    session: str = Field(min_length=20, max_length=2048, description="`session` of the challenge answer.")
    new_password: str = Field(min_length=1, max_length=256, description="The pool's password policy applies.")


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=8192)


class SessionTokensView(BaseModel):
    id_token: str = Field(description="Send it as `Authorization: Bearer <id_token>` on every API call.")
    access_token: str
    refresh_token: str | None = Field(default=None, description="From sign-in only: a refresh keeps the old one.")
    expires_in: int = Field(description="Seconds the ID and access tokens are valid.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


class PasswordChallengeView(BaseModel):
    challenge: Literal["NEW_PASSWORD_REQUIRED"]
    session: str = Field(description="Pass to POST /v1/session/password with the new password.")


class SignInAnswer(RootModel[SessionTokensView | PasswordChallengeView]):
    """The tokens, or the first sign-in's challenge."""


class SessionApi:
    def __init__(self, pool: UserPool | None) -> None:
        self._pool = pool

    def sign_in(self, call: ApiCall) -> dict[str, Any]:
        request = self._request(call, SignIn)
        outcome = self._user_pool().sign_in(_normal(request.email), request.password)
        if isinstance(outcome, SessionTokens):
            return _tokens(outcome)
        return PasswordChallengeView(challenge="NEW_PASSWORD_REQUIRED", session=outcome.session).model_dump()

    def set_password(self, call: ApiCall) -> dict[str, Any]:
        request = self._request(call, NewPassword)
        return _tokens(self._user_pool().set_new_password(_normal(request.email), request.session,
                                                          request.new_password))

    def refresh(self, call: ApiCall) -> dict[str, Any]:
        request = self._request(call, Refresh)
        return _tokens(self._user_pool().refresh(request.refresh_token))

    def _request(self, call: ApiCall, model: type[M]) -> M:
        call.refuse_unknown_query()  # no access gate here: the query is checked first, as elsewhere
        return call.json(model)

    def _user_pool(self) -> UserPool:
        if self._pool is None:
            raise NotFound(NOT_SET_UP)
        return self._pool


def _normal(email: str) -> str:
    return email.strip().lower()


def _tokens(tokens: SessionTokens) -> dict[str, Any]:
    view = SessionTokensView(id_token=tokens.id_token, access_token=tokens.access_token,
                             refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)
    return view.model_dump(mode="json", exclude_none=True)
