"""A learner's HTTP session against an Open edX LMS (the sandbox's or staging's): the
CSRF token, then the login session API, as the authn MFE does it. For the dry run's
login check and the sandbox's smoke run; the load profiles do the same with Locust."""

import requests

CSRF_PATH = "/csrf/api/v1/token"
LOGIN_PATH = "/api/user/v2/account/login_session/"
# Open edX's default login limits per 5 minutes (LOGISTRATION_RATELIMIT_RATE and
# LOGISTRATION_PER_EMAIL_RATELIMIT_RATE): per address, and per account.
OPENEDX_LOGINS_PER_IP, OPENEDX_LOGINS_PER_ACCOUNT, LOGIN_WINDOW_S = 100, 30, 300


class LoginFailed(Exception):
    """The LMS refused the login, or did not answer; the message says which."""


def csrf(session: requests.Session, base_url: str, timeout: float = 5) -> str:
    """Fetch the CSRF token into SESSION's cookies; unsafe requests send it back."""
    response = session.get(base_url + CSRF_PATH, timeout=timeout)
    response.raise_for_status()
    token = response.json()["csrfToken"]
    session.headers["X-CSRFToken"] = token
    return token


def login(base_url: str, username: str, password: str, timeout: float = 5) -> requests.Session:
    """A signed-in session (sessionid cookie) sending the CSRF token issued after the login,
    or LoginFailed with the LMS's answer. The password goes in the request body only: it
    is in no message."""
    session = requests.Session()
    try:
        csrf(session, base_url, timeout)
        response = session.post(base_url + LOGIN_PATH, timeout=timeout,
                                data={"email_or_username": username, "password": password})
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise LoginFailed(f"{base_url} did not answer the login as Open edX does: "
                          f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200 or "sessionid" not in session.cookies:
        detail = response.text[:200].replace(password, "***") if password else response.text[:200]
        raise LoginFailed(f"{base_url}{LOGIN_PATH} refused '{username}' with HTTP "
                          f"{response.status_code}: {detail}")
    try:  # Django's login() rotated the token: the session sends the new one from now on
        csrf(session, base_url, timeout)
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise LoginFailed(f"{base_url}{CSRF_PATH} gave no new CSRF token after the login: "
                          f"{type(exc).__name__}: {exc}") from None
    return session
