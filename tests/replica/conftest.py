"""Fixtures for the live read replica test: a PostgreSQL primary and a lagging standby of
the test's own (whatever database the test run uses), and gunicorn serving the real app
with DATABASE_URL on the primary and DATABASE_REPLICA_URL on the standby."""

from __future__ import annotations

import base64
import json
import logging
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from django_otp.oath import totp

from tests.load.client import (
    Journey,
    Person,
    Plan,
    csrf_token,
    http_client,
    journey,
    redirect_path,
)
from tests.load.server import (
    DEFINITION,
    ROOT,
    Gunicorn,
    server_env,
    static_collect,
    static_missing,
)
from tests.replica.cluster import Cluster, binaries, cluster_running

APPLY_DELAY = 4.0  # seconds the standby waits before applying each commit
PIN_SECONDS = 5  # REPLICA_LAG_SECONDS of the server: longer than the standby's lag
TEXT_QUESTION = "other_safeguards"  # a free-text question; analysts code its answers
PASSWORD = "replica test analyst password"
ANALYSTS = ("reader", "coder", "colleague", "scripter")


@dataclass(frozen=True)
class Live:
    url: str
    cluster: Cluster
    plan: Plan
    env: dict[str, str]  # the server's environment, for management commands
    setup_keys: dict[str, str]  # analyst -> authenticator setup key (base32)

    def manage(self, *arguments: str) -> str:
        """Run ``manage.py`` as the server would, against the primary; its output."""
        done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {arguments[0]} failed:\n{done.stderr}"
        return done.stdout


class Analyst:
    """An analyst's browser, signed in with password and authenticator code."""

    def __init__(self, live: Live, username: str) -> None:
        self.person = Person(http_client(), [live.url])
        page = self.get("/analysis/sign-in/")
        key = base64.b32decode(live.setup_keys[username])
        reply = self.person.post(
            "/analysis/sign-in/",
            {
                "csrfmiddlewaretoken": csrf_token(page),
                "username": username,
                "password": PASSWORD,
                "otp_token": f"{totp(key):06d}",
            },
            label="sign in",
        )
        assert redirect_path(reply) == "/analysis/", f"{username} could not sign in"

    def get(self, path: str) -> httpx.Response:
        return self.person.get(path, label=path)

    def post(self, path: str, data: dict[str, str | list[str]], *, form_on: str) -> str:
        """Post a form found on the page ``form_on``; where the answer redirects to."""
        token = csrf_token(self.get(form_on))
        reply = self.person.post(path, {"csrfmiddlewaretoken": token, **data}, label=path)
        return redirect_path(reply)


def respond(live: Live, seed: int) -> Journey:
    """A member of the public's whole journey; it must end with a reference."""
    with http_client() as http:
        done = journey(Person(http, [live.url]), live.plan, serial=seed, rng=random.Random(seed))
    assert done.confirmed, done.problem
    return done


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Plan.read(DEFINITION)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    folder = binaries()
    if folder is None:
        pytest.skip(
            "needs PostgreSQL's server programs in /usr/lib/postgresql/*/bin: "
            "apt-get install postgresql"
        )
    with cluster_running(folder, apply_delay=APPLY_DELAY) as running:
        yield running


@pytest.fixture(scope="module")
def live(tmp_path_factory, cluster, plan) -> Iterator[Live]:
    """The app on gunicorn (one worker of four threads) reading from both servers, with
    the built-in consultation open, the analysts made on the primary and one response
    answering the free-text question; the standby has caught up with all of that
    before the tests start."""
    if problem := static_missing():
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("replica")
    static_root = folder / "static"
    static_collect(static_root)
    env = server_env(
        cluster.primary.url,
        static_root,
        DATABASE_REPLICA_URL=cluster.standby.url,
        REPLICA_LAG_SECONDS=str(PIN_SECONDS),
        ANALYST_PASSWORD=PASSWORD,
    )
    prepared = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.replica.prepare", str(DEFINITION), *ANALYSTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert prepared.returncode == 0, f"preparing the primary failed:\n{prepared.stderr}"
    server = Gunicorn(env, folder / "gunicorn.log", workers=1)
    try:
        server.start(ready_path=plan.start_path)
        started = Live(server.url, cluster, plan, env, json.loads(prepared.stdout))
        assert respond(started, seed=2).answers.get(TEXT_QUESTION), "seed 2 answers it"
        cluster.standby_caught_up()
        yield started
        assert server.log_errors() == [], server.log_tail()
    finally:
        server.stop()


@pytest.fixture
def sign_in(live) -> Iterator[Callable[[str], Analyst]]:
    """Sign analysts in; their connections are closed after the test, so that stopping
    the server need not wait for them."""
    signed_in: list[Analyst] = []

    def analyst(username: str) -> Analyst:
        signed_in.append(Analyst(live, username))
        return signed_in[-1]

    yield analyst
    for each in signed_in:
        each.person.http.close()


@pytest.fixture(autouse=True, scope="module")
def _quiet_http_client():
    """httpx logs every request at INFO, which would bury a failure's own message."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
