"""The public read benchmark's harness stays runnable: seeding at tiny scale, wrk parsing,
ratios and verdicts, the proxy config and the reference view. No timing is asserted here;
performance lives in ``python -m bench.public_read``."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Institution, Membership
from accounts.tenancy import tenant_context
from bench import proxy, public_read, urls
from bench.report import Measurement, as_json, evaluate, format_table, summary
from bench.seeding import ScaleMismatch, describe, seed_institution, seed_or_reuse
from bench.wrk import Load, WrkOutputError, WrkResult, parse_wrk_output
from feeds.models import Post, Revision
from feeds.rendering import Entities, mentioned_handles, render_body
from feeds.services import PostContent, content_hash, profile_url

# Seeding ----------------------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    return seed_institution(
        slug="tiny-bench", staff=6, posts=40, batch_size=15, corrected_every=10, retracted_every=8
    )


def test_seeding_creates_staff_and_a_public_history(seeded):
    assert (seeded.staff, seeded.posts) == (6, 40)
    # Every 8th post (offset 4) is retracted; the rest are public.
    assert seeded.public_posts == 35
    with tenant_context(seeded.institution_id):
        public = Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True)
        assert public.count() == 35
        assert Revision.objects.count() == 44  # four corrected posts have a second revision
        oldest = Post.objects.order_by("published_at").first().published_at
    assert timezone.now() - oldest < timedelta(days=3 * 366)


def test_seeded_posts_show_their_newest_revision(seeded):
    with tenant_context(seeded.institution_id):
        for post in Post.objects.prefetch_related("revisions"):
            newest = max(post.revisions.all(), key=lambda revision: revision.number)
            assert post.public_revision_id == post.latest_revision_id == newest.id
            assert (post.corrected_at is not None) == (newest.number == 2)


def test_seeded_revisions_are_rendered_and_hashed_as_the_services_do(seeded):
    institution = Institution.objects.get(id=seeded.institution_id)
    with tenant_context(institution.id):
        revisions = list(Revision.objects.all())
    # Every mention in the seeded texts names a member, so each one becomes a profile link.
    mentioned = {handle for revision in revisions for handle in mentioned_handles(revision.body)}
    entities = Entities({handle: profile_url(institution, handle) for handle in mentioned})
    for revision in revisions:
        content = PostContent(revision.body, revision.language, revision.body_format)
        assert revision.body_html == render_body(revision.body, revision.body_format, entities)
        assert revision.content_hash == content_hash(content, {})
    html = "".join(revision.body_html for revision in revisions)
    for entity in ('class="u-link"', 'class="p-category hashtag"', "h-card mention", "<strong>"):
        assert entity in html


def test_described_targets_are_a_busy_profile_and_a_public_post(seeded):
    with tenant_context(seeded.institution_id):
        busiest = Membership.objects.get(handle=seeded.profile_handle)
        post = Post.objects.get(id=seeded.permalink_post_id)
        assert post.is_public
        public = Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True)
        assert public.filter(author=busiest).count() >= 35 / 6


def test_seeding_again_at_the_same_scale_reuses_the_institution(seeded):
    again = seed_or_reuse(slug="tiny-bench", staff=6, posts=40)
    assert again.institution_id == seeded.institution_id
    assert describe("tiny-bench").posts == 40


def test_seeding_again_at_another_scale_asks_for_a_reseed(seeded):
    with pytest.raises(ScaleMismatch, match="--reseed"):
        seed_or_reuse(slug="tiny-bench", staff=6, posts=41)


# wrk reports ------------------------------------------------------------------------------------

REPORT = """Running 10s test @ http://127.0.0.1:8471/bench-academy/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.91ms    2.31ms  31.21ms   80.45%
    Req/Sec     1.47k   125.40     1.71k    73.50%
  Latency Distribution
     50%  {p50}
     75%   11.73ms
     90%   13.54ms
     99%  {p99}
  29303 requests in 10.01s, 6.62MB read
{extra}Requests/sec:   2928.27
Transfer/sec:    677.35KB
"""


@pytest.mark.parametrize(
    ("p50", "p99", "extra", "expected"),
    [
        ("10.46ms", "19.53ms", "", (10.46, 19.53, 0, 0)),
        ("612.00us", "1.20s", "", (0.612, 1200.0, 0, 0)),
        ("2.00m", "2.50m", "", (120_000.0, 150_000.0, 0, 0)),
        ("10.46ms", "19.53ms", "  Non-2xx or 3xx responses: 12\n", (10.46, 19.53, 12, 0)),
        (
            "10.46ms",
            "19.53ms",
            "  Socket errors: connect 0, read 2, write 0, timeout 3\n",
            (10.46, 19.53, 0, 5),
        ),
    ],
)
def test_wrk_report_gives_rate_percentiles_and_errors(p50, p99, extra, expected):
    result = parse_wrk_output(REPORT.format(p50=p50, p99=p99, extra=extra))
    assert result.requests_per_second == 2928.27
    assert (
        result.p50_ms,
        result.p99_ms,
        result.non_2xx_3xx,
        result.socket_errors,
    ) == pytest.approx(expected)
    assert result.requests == 29303
    assert result.bytes_per_request == pytest.approx(6.62 * 1024**2 / 29303, rel=1e-3)


def test_wrk_report_without_latency_distribution_is_refused():
    text = REPORT.format(p50="1ms", p99="2ms", extra="").replace("     99%  2ms\n", "")
    with pytest.raises(WrkOutputError):
        parse_wrk_output(text)


def test_every_target_gets_the_same_load_with_a_latency_report():
    command = Load(threads=2, connections=32, seconds=10).command(
        "http://127.0.0.1:1/x", {"X-Forwarded-Proto": "https"}, 10
    )
    assert command[1:4] == ["-t2", "-c32", "-d10s"]
    assert "--latency" in command
    assert command[-3:] == ["-H", "X-Forwarded-Proto: https", "http://127.0.0.1:1/x"]


# Ratios and verdicts ----------------------------------------------------------------------------


def wrk(rps: float, non_2xx: int = 0) -> WrkResult:
    return WrkResult(rps, 10.0, 20.0, int(rps * 10), int(rps * 10_000), non_2xx, 0)


def run_of(phase: str, reference: tuple[float, float], target: WrkResult | None, round_: int = 1):
    name = {"warm": "trivial view", "cold": "trivial view", "proxy": "static file"}[phase]
    return [
        Measurement(phase, name, "u", wrk(reference[0]), is_reference=True, round=round_),
        Measurement(phase, "institution page", "u", target, round=round_),
        Measurement(phase, name, "u", wrk(reference[1]), is_reference=True, round=round_),
    ]


@pytest.mark.parametrize(
    ("phase", "reference", "target", "ratio", "verdict"),
    [
        ("warm", (1000, 1000), wrk(700), 0.70, "PASS"),
        ("warm", (900, 1100), wrk(690), 0.69, "FAIL"),
        ("cold", (1000, 1000), wrk(250), 0.25, "PASS"),
        ("cold", (1000, 1000), wrk(240), 0.24, "FAIL"),
        ("proxy", (20_000, 20_000), wrk(10_000), 0.50, "PASS"),
        ("proxy", (20_000, 20_000), wrk(9_000), 0.45, "FAIL"),
        ("warm", (1000, 1000), wrk(900, non_2xx=3), 0.90, "FAIL"),
        ("warm", (1000, 1000), None, None, "ERROR"),
    ],
)
def test_each_figure_is_judged_as_a_ratio_to_its_reference(
    phase, reference, target, ratio, verdict
):
    rows = evaluate(run_of(phase, reference, target))
    page = next(row for row in rows if row.target == "institution page")
    assert page.verdict == verdict
    assert page.ratio == (None if ratio is None else pytest.approx(ratio))
    assert {row.verdict for row in rows if row.target != "institution page"} == {"REF"}


def test_several_rounds_give_the_median_ratio():
    measurements = (
        run_of("warm", (1000, 1000), wrk(800), 1)
        + run_of("warm", (1000, 1000), wrk(500), 2)
        + run_of("warm", (500, 500), wrk(450), 3)
    )
    page = next(row for row in evaluate(measurements) if row.target == "institution page")
    assert page.ratio == pytest.approx(0.8)
    assert page.rounds == 3


def test_table_and_json_show_every_target_with_its_verdict():
    measurements = run_of("warm", (1000, 1000), wrk(750)) + run_of("cold", (1000, 1000), wrk(100))
    rows = evaluate(measurements)
    table = format_table(rows)
    assert "institution page" in table and "PASS" in table and "FAIL" in table
    assert summary(rows) == {"PASS": 1, "FAIL": 1, "ERROR": 0}
    warm_page = next(r for r in rows if r.phase == "warm" and r.target == "institution page")
    assert "75% of the cold trivial view" in warm_page.note
    document = json.loads(json.dumps(as_json(rows, measurements, {"benchmark": "public_read"})))
    assert document["summary"] == {"PASS": 1, "FAIL": 1, "ERROR": 0}


# Runner, reference view and proxy ---------------------------------------------------------------


def test_options_come_from_the_environment_and_flags():
    options = public_read.parse_options(
        ["--phases", "warm,proxy"], {"BENCH_CONNECTIONS": "8", "BENCH_POSTS": "500"}
    )
    assert (options.load.connections, options.posts, options.staff) == (8, 500, 200)
    assert options.phases == ["warm", "proxy"]
    with pytest.raises(SystemExit):
        public_read.parse_options(["--phases", "lukewarm"], {})


def test_server_runs_production_settings_with_the_cache_off_only_when_cold(tmp_path):
    options = public_read.parse_options([], {"PODIUM_DEBUG": "true", "REDIS_URL": "redis://x/0"})
    cold = public_read.django_env(options, tmp_path, server_cache=False)
    warm = public_read.django_env(options, tmp_path)
    assert cold["PODIUM_ENV"] == warm["PODIUM_ENV"] == "production"
    assert cold["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert "PODIUM_DEBUG" not in cold
    assert cold["REDIS_URL"] == options.redis_url
    assert cold["PODIUM_PUBLIC_CACHE_SECONDS"] == "0"
    assert "PODIUM_PUBLIC_CACHE_SECONDS" not in warm


@pytest.mark.urls("bench.urls")
def test_reference_view_answers_beside_every_production_route(client):
    assert public_read.TRIVIAL_PATH == "/" + urls.TRIVIAL_PATH
    response = client.get(public_read.TRIVIAL_PATH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Set-Cookie" not in response
    assert reverse("feeds:institution", args=["some-school"]) == "/some-school/"


def test_platform_proxy_template_renders_to_a_valid_nginx_config(tmp_path):
    config = proxy.write_config(
        tmp_path / "nginx",
        listen="127.0.0.1:1",
        upstream="127.0.0.1:2",
        static_dir=tmp_path / "static",
        media_dir=tmp_path / "media",
    )
    rendered = (config.parent / "default.conf").read_text()
    assert proxy.PLACEHOLDER_RE.search(rendered) is None
    assert "server 127.0.0.1:2;" in rendered
    if not Path(proxy.NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    checked = subprocess.run(proxy.check_command(config), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_unknown_proxy_placeholder_is_named():
    with pytest.raises(proxy.TemplateError, match="PROXY_NEW"):
        proxy.render_template("listen ${PROXY_LISTEN}; x ${PROXY_NEW};", {"PROXY_LISTEN": "80"})
