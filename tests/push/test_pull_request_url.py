"""Links that open a pull request on the hosts whose URLs are known."""

from __future__ import annotations

import pytest

from modelreg.publish import pull_request_url


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:acme/models.git",
        "https://github.com/acme/models.git",
        "https://github.com/acme/models",
        "ssh://git@github.com/acme/models.git",
        "https://x-access-token@github.com/acme/models.git",
    ],
)
def test_github(url: str) -> None:
    assert (
        pull_request_url(url, "main", "retrain/churn")
        == "https://github.com/acme/models/compare/main...retrain/churn?expand=1"
    )


def test_gitlab_with_subgroups() -> None:
    assert pull_request_url("git@gitlab.com:acme/ml/models.git", "main", "v5") == (
        "https://gitlab.com/acme/ml/models/-/merge_requests/new"
        "?merge_request%5Bsource_branch%5D=v5&merge_request%5Btarget_branch%5D=main"
    )


@pytest.mark.parametrize(
    "url", ["/srv/git/models.git", "https://git.example.com/acme/models.git", "file:///x.git"]
)
def test_other_hosts_have_no_link(url: str) -> None:
    assert pull_request_url(url, "main", "b") is None


def test_branch_names_are_quoted() -> None:
    url = pull_request_url("git@github.com:a/b.git", "main", "fix#1")
    assert url == "https://github.com/a/b/compare/main...fix%231?expand=1"
