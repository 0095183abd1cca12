"""The chat page in a real headless Chromium (the system's, driven by Playwright): load, ask, see the
streamed answer, a tool step and an inline chart, fill an elicitation form, open the résumé; no
console errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from folio_orchestrator.llm import FunctionModel, Message, ModelRequest, tool_call

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def script(messages: list[Message], request: ModelRequest) -> Any:
    last = messages[-1]
    if last.role == "user" and not last.results:
        if "chart" in last.text:
            return [tool_call("web__chart"), tool_call("web__steps", {"count": 2})]
        if "introduce" in last.text:
            return tool_call("web__introduce")
        if "forget" in last.text:
            return tool_call("web__forget_everything")
        return f"You asked: {last.text}"
    return "Here is what I found: " + " | ".join(r.content for r in last.results)


@pytest.fixture
def page_fleet(fleet_config: Any, peers: Any) -> Any:
    """The test server, and a profile stand-in serving the sample résumé (so the page has a name)."""
    return fleet_config({"web": peers.script("web_server"), "profile": peers.script("resume_server")})


@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (scripts/setup_browser.sh)"
)
async def test_the_page_streams_an_answer_shows_tools_a_chart_and_a_form(
    page_fleet: Any, web_settings: Any, serving: Any, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    errors: list[str] = []
    model = FunctionModel(script, model_name="twin")
    with anyio.fail_after(180):
        async with (
            serving(page_fleet, web_settings, model) as served,
            async_playwright() as pw,
        ):
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport={"width": 420, "height": 900})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                await page.goto(served.url)
                await page.wait_for_function("document.title.startsWith('Talk to ')")
                title = await page.title()

                await page.fill("#question", "show me a chart")
                await page.keyboard.press("Enter")
                await page.wait_for_selector(".message.assistant[data-done='answered']")
                steps = await page.locator(".step").all_inner_texts()
                image = await page.locator(".step img").get_attribute("src")
                answer = await page.locator(".message.assistant .text").last.inner_text()
                bars = await page.locator(".step progress").count()

                await page.fill("#question", "please introduce yourself")
                await page.click("#send")
                await page.wait_for_selector(".elicitation input[name='name']")
                await page.fill(".elicitation input[name='name']", "Grace")
                await page.select_option(".elicitation select[name='role']", "engineer")
                await page.click(".elicitation button[value='accept']")
                await page.wait_for_selector(".message.assistant[data-done='answered'] >> nth=1")
                second = await page.locator(".message.assistant .text").last.inner_text()

                await page.click("#resume-button")
                await page.wait_for_selector("#resume h2")
                resume = await page.locator("#resume").inner_text()
                await page.screenshot(path=str(tmp_path / "page.png"), full_page=True)

                # a visitor's model cannot reach the owner's tool; with an owner token it can
                await page.fill("#question", "forget everything")
                await page.keyboard.press("Enter")
                await page.wait_for_selector(".message.assistant[data-done='answered'] >> nth=2")
                refused = await page.locator(".message.assistant").last.inner_text()
                _, secret = await served.service.tokens.create("page", audience="owner")
                await page.click("#owner summary")
                await page.fill("#token", "folio_wrong" + "x" * 30)
                await page.click("#token-form button[type='submit']")
                await page.wait_for_selector("#token-state:has-text('revoked or expired')")
                await page.fill("#token", secret)
                await page.click("#token-form button[type='submit']")
                await page.wait_for_selector("#token-state:has-text('signed in as the owner')")
                await page.fill("#question", "forget everything")
                await page.keyboard.press("Enter")
                await page.wait_for_selector(".message.assistant[data-done='answered']")
                allowed = await page.locator(".message.assistant").last.inner_text()
            finally:
                await browser.close()
    sample = json.loads((Path(web_settings.portfolio_dir) / "resume.json").read_text(encoding="utf-8"))
    assert title == f"Talk to {sample['basics']['name']}"
    assert any("web · chart" in s and "done" in s for s in steps)
    assert any("web · steps" in s for s in steps) and bars == 1
    assert image is not None and image.startswith("data:image/png;base64,")
    assert answer.startswith("Here is what I found: skills chart")
    assert second == 'Here is what I found: {"result":"hello Grace, engineer"}'
    assert sample["basics"]["name"] in resume
    assert "there is no tool" in refused
    assert "web · forget_everything" in allowed and "forgotten" in allowed
    # the refused token's 401 is the one console error a browser reports for a failed fetch
    assert [e for e in errors if "401" not in e] == []
    assert len([e for e in errors if "401" in e]) == 1
