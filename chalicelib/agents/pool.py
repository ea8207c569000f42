"""Agents' accounts in the stack's Cognito user pool, over an injected
``cognito-idp`` client: sign in, first-password challenge, refresh, and the
admin calls behind agent management.

Cognito's errors become the SDK's, once, here::

    NotAuthorizedException, UserNotFoundException, ...   → Unauthorized  401  one message: no user enumeration
    InvalidPasswordException                             → InvalidInput  422  Cognito's policy message
    UsernameExistsException                              → Conflict      409
    InvalidParameterException                            → InvalidInput  422
    TooManyRequestsException, LimitExceededException, ... → RateLimited   429
    (admin calls) UserNotFoundException                  → NotFound      404

Anything else (an unreachable or misconfigured pool) propagates: a 500, logged.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, SwitchboardError, Unauthorized

from ..storage.aws import error_code

WRONG_CREDENTIALS = "email or password is wrong"
BAD_SESSION = "the sign-in session is not valid or has expired; sign in again"
BAD_REFRESH = "the refresh token is not valid or has expired; sign in again"
FIRST_SIGN_IN = "NEW_PASSWORD_REQUIRED"  # Cognito's challenge name
# what Cognito answers for a wrong password, an unknown, disabled or unconfirmed user alike
REFUSALS = frozenset({"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException",
                      "PasswordResetRequiredException"})
THROTTLES = frozenset({"TooManyRequestsException", "TooManyFailedAttemptsException", "LimitExceededException"})
# a challenge answer with a session Cognito no longer knows (moto says ResourceNotFound)
SESSION_REFUSALS = REFUSALS | {"CodeMismatchException", "ExpiredCodeException", "ResourceNotFoundException"}
SYMBOLS = "!#%*+-=@^_"  # from Cognito's allowed special characters, none that needs quoting in a shell
TEMPORARY_PASSWORD_LENGTH = 20


@dataclass(frozen=True)
class SessionTokens:
    id_token: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None  # a refresh answers without a new one


@dataclass(frozen=True)
class PasswordChallenge:
    """First sign-in with a temporary password: a new one must be set (``session`` carries on)."""

    session: str
    challenge: str = FIRST_SIGN_IN


@dataclass(frozen=True)
class NewUser:
    username: str  # what the admin calls take (Cognito's own; with email sign-in, a UUID)
    sub: str
    temporary_password: str


class UserPool:
    def __init__(self, client: Any, pool_id: str, client_id: str) -> None:
        self._idp = client
        self._pool = pool_id
        self._client = client_id

    def sign_in(self, email: str, password: str) -> SessionTokens | PasswordChallenge:
        with _answers(WRONG_CREDENTIALS, REFUSALS, field="password"):
            answer = self._idp.initiate_auth(ClientId=self._client, AuthFlow="USER_PASSWORD_AUTH",
                                             AuthParameters={"USERNAME": email, "PASSWORD": password})
        return _outcome(answer)

    def set_new_password(self, email: str, session: str, new_password: str) -> SessionTokens:
        """Answer ``NEW_PASSWORD_REQUIRED`` (the first sign-in) with the agent's own password."""
        with _answers(BAD_SESSION, SESSION_REFUSALS, field="new_password"):
            answer = self._idp.respond_to_auth_challenge(
                ClientId=self._client, ChallengeName=FIRST_SIGN_IN, Session=session,
                ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password})
        outcome = _outcome(answer)
        if not isinstance(outcome, SessionTokens):
            raise Forbidden("this account needs a sign-in step the hub does not support")
        return outcome

    def refresh(self, refresh_token: str) -> SessionTokens:
        with _answers(BAD_REFRESH, REFUSALS):
            answer = self._idp.initiate_auth(ClientId=self._client, AuthFlow="REFRESH_TOKEN_AUTH",
                                             AuthParameters={"REFRESH_TOKEN": refresh_token})
        outcome = _outcome(answer)
        assert isinstance(outcome, SessionTokens)  # a refresh never challenges
        return outcome

    def create_user(self, email: str, tenant_id: str) -> NewUser:
        """A user of ``tenant_id`` with a generated temporary password; Cognito sends no
        mail (the admin hands the password over), the first sign-in must replace it."""
        password = temporary_password()
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                      {"Name": "custom:tenant_id", "Value": tenant_id}]
        with _answers("", frozenset()):
            user = self._idp.admin_create_user(UserPoolId=self._pool, Username=email, TemporaryPassword=password,
                                               MessageAction="SUPPRESS", UserAttributes=attributes)["User"]
        sub = next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), user["Username"])
        return NewUser(username=user["Username"], sub=sub, temporary_password=password)

    def disable(self, username: str, email: str) -> None:
        """No more sign-ins, and the agent's refresh tokens revoked (the hub refuses its
        ID tokens itself). The sign-out names the user by email, an alias Cognito takes
        like the username (and the one moto matches refresh tokens by)."""
        with _admin():
            self._idp.admin_disable_user(UserPoolId=self._pool, Username=username)
            self._idp.admin_user_global_sign_out(UserPoolId=self._pool, Username=email)

    def enable(self, username: str) -> None:
        with _admin():
            self._idp.admin_enable_user(UserPoolId=self._pool, Username=username)

    def delete(self, username: str) -> None:
        """Delete the user; one already gone is fine (a repeated removal)."""
        try:
            with _admin():
                self._idp.admin_delete_user(UserPoolId=self._pool, Username=username)
        except NotFound:
            pass


def temporary_password(length: int = TEMPORARY_PASSWORD_LENGTH) -> str:
    """Random, with every character class Cognito's policies may require."""
    classes = [string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS]
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _outcome(answer: dict[str, Any]) -> SessionTokens | PasswordChallenge:
    result = answer.get("AuthenticationResult")
    if result:
        return SessionTokens(id_token=result["IdToken"], access_token=result["AccessToken"],
                             expires_in=int(result.get("ExpiresIn", 3600)), refresh_token=result.get("RefreshToken"))
    if answer.get("ChallengeName") == FIRST_SIGN_IN:
        return PasswordChallenge(session=answer["Session"])
    raise Forbidden("this account needs a sign-in step the hub does not support")  # MFA: the pool has it off


@contextmanager
def _answers(refused: str, refusals: frozenset[str], *, field: str = "password") -> Iterator[None]:
    """Cognito's errors inside the block as the SDK's (module docstring)."""
    try:
        yield
    except Exception as err:
        mapped = _mapped(err, refused, refusals, field)
        if mapped is None:
            raise
        raise mapped from err


@contextmanager
def _admin() -> Iterator[None]:
    try:
        with _answers("", frozenset()):
            yield
    except Exception as err:
        if error_code(err) == "UserNotFoundException":
            raise NotFound("the agent's sign-in no longer exists") from err
        raise


def _mapped(err: Exception, refused: str, refusals: frozenset[str], field: str) -> SwitchboardError | None:
    code = error_code(err)
    message = str((getattr(err, "response", None) or {}).get("Error", {}).get("Message", ""))[:200]
    if code in refusals:
        return Unauthorized(refused)
    if code == "InvalidPasswordException":  # Cognito's words name the rule, never the password
        reason = message or "the password does not meet the pool's policy"
        return InvalidInput(reason, [{"field": field, "message": reason}])
    if code == "UsernameExistsException":
        return Conflict("an agent with this email already exists")
    if code == "InvalidParameterException":  # its message may quote what it refused
        return InvalidInput("the user pool refused the request's parameters")
    if code in THROTTLES:
        return RateLimited("too many sign-in attempts; try again later", retry_after_seconds=5)
    if type(err).__name__ == "ParamValidationError":  # botocore's own checks, before any call
        return InvalidInput("the user pool would refuse this request's parameters")
    return None
