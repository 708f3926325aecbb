"""The survey page behind an email's signed link: `/survey/{token}` (no login).

GET shows the question (a `?score=` in the link preselects an answer, so mail scanners that
open links record nothing); POST records the answer once.
"""

from __future__ import annotations

import html
import uuid
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from omnidesk.config import Settings
from omnidesk.db import Database, session_now
from omnidesk.surveys.actions import answer
from omnidesk.surveys.models import Survey
from omnidesk.surveys.tokens import verify
from omnidesk.tenants.models import Tenant

router = APIRouter(prefix="/survey", include_in_schema=False)
SCALES = {"csat": range(1, 6), "nps": range(0, 11)}
QUESTIONS = {"csat": "How satisfied are you with our help?",
             "nps": "How likely are you to recommend us to a friend or colleague?"}
LEGENDS = {"csat": ("1 = not at all satisfied", "5 = very satisfied"),
           "nps": ("0 = not at all likely", "10 = extremely likely")}
STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
fieldset{border:1px solid #57606a;border-radius:6px;padding:1rem}
.scale{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
.scale label{display:flex;flex-direction:column;align-items:center;border:1px solid #d0d7de;
border-radius:4px;padding:.25rem .6rem}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit}
input:focus-visible,button:focus-visible{outline:3px solid #0a4fb3;outline-offset:2px}"""


def _page(title: str, content: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body><main>{content}</main></body>
</html>""", status_code=status_code,
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "Content-Security-Policy": "default-src 'none'; "
                                 "style-src 'unsafe-inline'; form-action 'self'"})


def _message(title: str, text: str, status_code: int = 200) -> HTMLResponse:
    return _page(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>", status_code)


async def _survey(request: Request, token: str) -> tuple[Survey, str] | HTMLResponse:
    settings: Settings = request.app.state.settings
    survey_id = verify(token, key=settings.resolved_secret_key.get_secret_value())
    if survey_id is None:
        return _message("Survey not found", "This survey link is not valid.", 404)
    db: Database = request.app.state.db
    async with db.read() as session:
        survey = await session.get(Survey, survey_id)
        tenant = await session.get(Tenant, survey.tenant_id) if survey is not None else None
        now = session_now(session)
    if survey is None or tenant is None:
        return _message("Survey not found", "This survey no longer exists.", 404)
    if survey.status == "answered":
        return _message("Thank you!", "We already have your answer. Thank you for your "
                        "feedback!")
    if survey.expires_at <= now:
        return _message("Survey closed", "This survey has expired.", 410)
    return survey, tenant.name


def _form(survey: Survey, company: str, token: str, chosen: int | None,
          error: str | None = None) -> HTMLResponse:
    choices = "".join(
        f'<label><input type="radio" name="score" value="{score}" required'
        f'{" checked" if score == chosen else ""}>{score}</label>'
        for score in SCALES[survey.kind])
    low, high = LEGENDS[survey.kind]
    alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return _page(f"Survey – {company}", f"""<h1>{html.escape(company)}: your feedback</h1>
{alert}<form method="post" action="/survey/{html.escape(token)}">
<fieldset><legend>{html.escape(QUESTIONS[survey.kind])}</legend>
<div class="scale">{choices}</div>
<p>{html.escape(low)}, {html.escape(high)}</p></fieldset>
<button type="submit">Send my answer</button></form>""", 422 if error else 200)


@router.get("/{token}", response_class=HTMLResponse)
async def survey_page(token: str, request: Request, score: int | None = None) -> HTMLResponse:
    """The survey question with its scale."""
    found = await _survey(request, token)
    if isinstance(found, HTMLResponse):
        return found
    survey, company = found
    return _form(survey, company, token, score)


@router.post("/{token}", response_class=HTMLResponse)
async def survey_answer(token: str, request: Request) -> HTMLResponse:
    """Record the answer (form field `score`) once."""
    found = await _survey(request, token)
    if isinstance(found, HTMLResponse):
        return found
    survey, company = found
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    raw = (fields.get("score") or [""])[0].strip()
    if not raw.isdigit() or int(raw) not in SCALES[survey.kind]:
        scale = SCALES[survey.kind]
        return _form(survey, company, token, None,
                     f"Please choose a score from {scale.start} to {scale.stop - 1}.")
    db: Database = request.app.state.db
    async with db.write() as session:
        row = await session.get(Survey, uuid.UUID(str(survey.id)))
        if row is not None and row.status != "answered":
            await answer(session, row, int(raw), actor=f"survey_link:{row.id}")
    return _message("Thank you!", "Thank you for your feedback!")
