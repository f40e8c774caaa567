"""Login: Chinese messages, throttling per (account, address) and per address, logout by POST, session
expiry, CSRF."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jingzhun.accounts.models import LoginAttempt, User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import TEST_PASSWORD, MakeUser
from jingzhun.regions.testing import RegionTree

LOGIN = reverse("accounts:login")
WRONG = "wrong-password-1"


def post_login(client: Client, username: str, password: str, addr: str = "10.1.1.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=addr)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def age_attempts(seconds: int) -> None:
    """Move every recorded try back in time instead of sleeping."""
    LoginAttempt.objects.update(timestamp=F("timestamp") - dt.timedelta(seconds=seconds))


@pytest.fixture
def cadre(make_user: MakeUser, tree: RegionTree) -> User:
    return make_user(Role.VILLAGE, tree.village_a1, username="cadre")


def test_login_page_is_public_and_in_chinese(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "用户名" in response.text and "密码" in response.text


def test_pages_need_login(client, db):
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_successful_login(client, cadre):
    response = post_login(client, "cadre", TEST_PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)
    assert LoginAttempt.objects.get(username="cadre").succeeded


def test_wrong_password_message_is_chinese_and_recorded(client, cadre):
    response = post_login(client, "cadre", WRONG)
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert not logged_in(client)
    attempt = LoginAttempt.objects.get()
    assert (attempt.username, attempt.remote_addr, attempt.succeeded) == ("cadre", "10.1.1.1", False)


def test_empty_form_is_not_an_attempt(client, db):
    post_login(client, "", "")
    assert not LoginAttempt.objects.exists()


def test_five_failures_lock_the_username_even_with_the_right_password(client, cadre):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert "用户名或密码错误" in post_login(client, "cadre", WRONG).text
    # The failure that reaches the limit already says so.
    assert "15 分钟后再试" in post_login(client, "cadre", WRONG).text
    response = post_login(client, "cadre", TEST_PASSWORD)
    assert response.status_code == 200
    assert "登录失败次数过多" in response.text
    assert not logged_in(client)
    # Refused tries are not recorded, so hammering a locked account does not prolong the lock.
    assert LoginAttempt.objects.count() == settings.LOGIN_MAX_FAILURES


def test_every_spelling_that_logs_in_counts_against_the_same_account(client, make_user, tree):
    # Issue 11, item 8: with helper locked, ｈｅｌｐｅｒ (full width) logged in as helper, because the throttle
    # counted the string as typed while authentication normalised it.
    make_user(Role.HELPER, tree.village_a1, username="helper")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        post_login(client, "helper", WRONG)
    for spelling in ("ｈｅｌｐｅｒ", "ｈｅｌｐｅｒ\u3000", " helper", "helper"):
        response = post_login(client, spelling, TEST_PASSWORD)
        assert "登录失败次数过多" in response.text, spelling
        assert not logged_in(client), spelling


def test_failures_in_any_spelling_lock_the_account(client, make_user, tree):
    make_user(Role.HELPER, tree.village_a1, username="helper")
    for spelling in ("ｈｅｌｐｅｒ", "HELPER", "Ｈｅｌｐｅｒ", "\u3000helper", "helper"):
        post_login(client, spelling, WRONG)
    assert "登录失败次数过多" in post_login(client, "helper", TEST_PASSWORD).text
    assert not logged_in(client)
    # What was typed is kept as typed; the account it counted against is the normalised name.
    attempts = LoginAttempt.objects.order_by("id")
    assert [a.username for a in attempts] == ["ｈｅｌｐｅｒ", "HELPER", "Ｈｅｌｐｅｒ", "helper", "helper"]
    assert {a.account for a in attempts} == {"helper"}


def test_a_full_width_username_logs_in_when_not_locked(client, make_user, tree):
    make_user(Role.HELPER, tree.village_a1, username="helper")
    post_login(client, "ｈｅｌｐｅｒ", TEST_PASSWORD)
    assert logged_in(client)
    assert LoginAttempt.objects.get().succeeded


def test_a_lock_holds_only_from_the_address_that_guessed(client, cadre):
    # Locking the account everywhere after five guesses from anywhere would let anyone who knows a username
    # keep its owner out: the guesser's address is locked out of that account, the owner's is not.
    for _ in range(settings.LOGIN_MAX_FAILURES):
        post_login(client, "cadre", WRONG, addr="10.6.6.6")
    assert "登录失败次数过多" in post_login(client, "cadre", TEST_PASSWORD, addr="10.6.6.6").text
    assert not logged_in(client)
    post_login(client, "cadre", TEST_PASSWORD, addr="10.1.1.1")
    assert logged_in(client)


def test_guesses_spread_over_addresses_lock_each_address(client, cadre):
    for i in range(2):
        for _ in range(settings.LOGIN_MAX_FAILURES):
            post_login(client, "cadre", WRONG, addr=f"10.6.6.{i}")
    for i in range(2):
        assert "登录失败次数过多" in post_login(client, "cadre", TEST_PASSWORD, addr=f"10.6.6.{i}").text
    assert not logged_in(client)


def test_the_owners_login_elsewhere_does_not_reset_the_guessers_count(client, cadre):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        post_login(client, "cadre", WRONG, addr="10.6.6.6")
    post_login(client, "cadre", TEST_PASSWORD, addr="10.1.1.1")
    assert logged_in(client)
    client.logout()
    assert "15 分钟后再试" in post_login(client, "cadre", WRONG, addr="10.6.6.6").text


def test_each_failure_after_a_lock_doubles_it_up_to_the_longest_lock(client, cadre, settings):
    settings.LOGIN_LOCK_MAX_SECONDS = 2 * 3600
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        post_login(client, "cadre", WRONG)
    for expected in (15, 30, 60, 120, 120):
        assert f"{expected} 分钟后再试" in post_login(client, "cadre", WRONG).text
        # Still locked a minute before the lock ends, with the right password too.
        age_attempts((expected - 1) * 60)
        assert "1 分钟后再试" in post_login(client, "cadre", TEST_PASSWORD).text
        age_attempts(60 + 1)
    post_login(client, "cadre", TEST_PASSWORD)
    assert logged_in(client)


def test_failures_are_forgotten_after_the_longest_lock(client, cadre, settings):
    settings.LOGIN_LOCK_MAX_SECONDS = 2 * 3600
    for _ in range(settings.LOGIN_MAX_FAILURES):
        post_login(client, "cadre", WRONG)
    age_attempts(7 * 2 * 3600 + 1)  # a week's memory for a day's longest lock: here 14 hours for 2
    # The next failure starts a fresh count: not locked at once.
    assert "用户名或密码错误" in post_login(client, "cadre", WRONG).text


def test_lock_message_counts_down_and_lock_expires_after_the_window(client, cadre):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        post_login(client, "cadre", WRONG)
    age_attempts(10 * 60)
    assert "5 分钟后再试" in post_login(client, "cadre", TEST_PASSWORD).text
    age_attempts(5 * 60 + 1)  # now older than the 15-minute window
    response = post_login(client, "cadre", TEST_PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_failures_spread_over_hours_still_lock(client, cadre):
    # Guessing slowly does not escape the count: failures are remembered until a success (or the longest lock).
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        post_login(client, "cadre", WRONG)
        age_attempts(3600)
    assert "15 分钟后再试" in post_login(client, "cadre", WRONG).text
    age_attempts(15 * 60 + 1)
    post_login(client, "cadre", TEST_PASSWORD)
    assert logged_in(client)


def test_successful_login_resets_the_username_count(client, cadre):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        post_login(client, "cadre", WRONG)
    post_login(client, "cadre", TEST_PASSWORD)
    assert logged_in(client)
    client.logout()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        post_login(client, "cadre", WRONG)
    post_login(client, "cadre", TEST_PASSWORD)
    assert logged_in(client)


def test_unknown_usernames_are_throttled_too(client, db):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        post_login(client, "nobody", WRONG)
    assert "登录失败次数过多" in post_login(client, "nobody", WRONG).text


def test_per_address_lock(client, make_user, tree):
    # Guessing one password on many accounts from one address: each account stays under its limit.
    target = make_user(Role.VILLAGE, tree.village_a1, username="target")
    address_limit = settings.LOGIN_MAX_FAILURES * 4
    for i in range(address_limit):
        post_login(client, f"guess{i % 10}", WRONG, addr="10.6.6.6")
    response = post_login(client, target.username, TEST_PASSWORD, addr="10.6.6.6")
    assert "登录失败次数过多" in response.text
    assert not logged_in(client)
    # The same account from another address is not affected.
    post_login(client, target.username, TEST_PASSWORD, addr="10.7.7.7")
    assert logged_in(client)


def test_a_local_reverse_proxy_address_is_not_locked(client, make_user, tree, settings):
    # Behind nginx on the same host every request has REMOTE_ADDR 127.0.0.1: that is not one client.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    own = make_user(Role.VILLAGE, tree.village_a1, username="own")
    for i in range(settings.LOGIN_MAX_FAILURES * 4):
        post_login(client, f"typo{i % 10}", WRONG, addr="127.0.0.1")
    post_login(client, own.username, TEST_PASSWORD, addr="127.0.0.1")
    assert logged_in(client)


def test_address_count_is_not_reset_by_someone_elses_success(client, make_user, tree):
    own = make_user(Role.VILLAGE, tree.village_a1, username="own")
    address_limit = settings.LOGIN_MAX_FAILURES * 4
    for i in range(address_limit - 1):
        post_login(client, f"guess{i % 10}", WRONG, addr="10.6.6.6")
        if i == address_limit // 2:
            post_login(client, own.username, TEST_PASSWORD, addr="10.6.6.6")  # a valid login in between
            client.logout()
    post_login(client, "guess0", WRONG, addr="10.6.6.6")
    assert "登录失败次数过多" in post_login(client, own.username, TEST_PASSWORD, addr="10.6.6.6").text


def test_inactive_user_cannot_log_in(client, make_user, tree):
    make_user(Role.VILLAGE, tree.village_a1, username="gone", is_active=False)
    response = post_login(client, "gone", TEST_PASSWORD)
    assert response.status_code == 200
    assert not logged_in(client)


def test_login_shows_last_login_and_failures_since(client, cadre):
    cadre.last_login = timezone.now() - dt.timedelta(days=2)
    cadre.save()
    post_login(client, "cadre", WRONG)
    response = post_login(client, "cadre", TEST_PASSWORD)
    page = client.get(response.url)
    assert "上次登录时间" in page.text
    assert "此后有 1 次登录失败" in page.text


def test_logout_requires_post(client, cadre):
    client.force_login(cadre)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert logged_in(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not logged_in(client)


def test_session_expires_after_the_configured_idle_time(client, cadre, settings):
    settings.SESSION_COOKIE_AGE = 600
    before = timezone.now()
    post_login(client, "cadre", TEST_PASSWORD)
    session = Session.objects.get(session_key=client.session.session_key)
    expected = before + dt.timedelta(seconds=600)
    assert expected <= session.expire_date <= expected + dt.timedelta(seconds=30)
    # Expire at browser close: the cookie carries no lifetime of its own.
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]
    assert cookie["httponly"]


def test_each_request_extends_the_session_and_an_idle_one_ends(client, cadre):
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    post_login(client, "cadre", TEST_PASSWORD)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + dt.timedelta(seconds=5))
    assert client.get(reverse("accounts:my_account")).status_code == 200
    extended = Session.objects.get(session_key=key).expire_date
    assert extended > timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    # An idle session past its expiry no longer authenticates.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(reverse("accounts:my_account"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_csrf_token_is_required_on_login(cadre):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "cadre", "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "请求已过期" in response.text
    assert not logged_in(client)
    # With the token from the page the same login works, so the refusal above was the missing token.
    client.get(LOGIN)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(LOGIN, {"username": "cadre", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert logged_in(client)


def test_csrf_token_is_required_on_user_create(county_admin, tree):
    client = Client(enforce_csrf_checks=True)
    client.force_login(county_admin)
    data = {
        "username": "newcadre",
        "full_name": "新干部",
        "role": Role.VILLAGE,
        "scope": tree.village_a1,
        "password1": "Zhunque-2024-xyz",
        "password2": "Zhunque-2024-xyz",
    }
    response = client.post(reverse("accounts:user_create"), data)
    assert response.status_code == 403
    assert not User.objects.unscoped().filter(username="newcadre").exists()
    client.get(reverse("accounts:user_create"))
    data["csrfmiddlewaretoken"] = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.post(reverse("accounts:user_create"), data).status_code == 302
    assert User.objects.unscoped().filter(username="newcadre").exists()


def test_csrf_token_is_required_on_logout(cadre):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cadre)
    assert client.post(reverse("accounts:logout")).status_code == 403
    assert logged_in(client)
