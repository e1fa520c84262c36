"""The cockpit's routes: the page under /app/ and the JSON API under /api/.

Every API call signs the person in again from Telegram's initData (``webapp.auth``) and goes
through the services the chat's handlers use, with the same team rule: a manager sees only
their own team; directors and admins any team that is not archived.

API (all JSON, all need ``Authorization: tma <initData>``):
  GET  /api/me                         who is signed in, the page's texts, the teams they may pick
  GET  /api/team?period=week|month&team=<id>   the Team page: per-rep figures against targets
  GET  /api/rep/<id>?period=week|month  one rep's visits of the period (the /team rule)
  GET  /api/collections?team=<id>      open balances and aging per rep of one team
  GET  /api/company?period=week|month  directors and admins: one row per team
  GET  /api/map?period=week|month&team=<id>&rep=<id>   the Map page: the period's check-ins
                                       (flagged ones marked) and the team's customers with a
                                       location, in the configured tiles' datum; ``rep`` narrows
                                       both to one rep of that team
  GET  /api/photo/<id>?size=thumb      a visit photo's stamped copy (JPEG; a 320 px thumbnail
                                       with size=thumb) for someone who may see the visit's rep
                                       (the /api/rep rule); never the original, unstamped photo
  GET  /api/approvals                  the requests waiting for this person's decision
  POST /api/approvals/<id>  {"step": n, "action": "approve"|"reject", "reason": "..."}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.db import transaction
from core.errors import UserFacingError
from core.settings import WebappSettings
from models.common import Role
from services import (
    approval_cards,
    approval_lists,
    approvals,
    map_points,
    photo_stamp,
    receivable_aging,
    teams,
    visits,
)
from services.approval_cards import Env
from services.receivable_aging import Scope
from services.summary import build_team_summary
from services.summary.core import PeriodKind, build_team_summaries, window_for
from services.team_context import TeamContext, resolve
from views import cockpit as views
from webapp.auth import Refused, Viewer, sign_in
from webapp.context import WebDeps

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# The page may load only its own files and call only its own API.
# The page may load only its own files, call only its own API, and show the map tiles of the
# configured host (and nothing else from outside).
CSP = (
    "default-src 'self'; img-src 'self' data: blob:{tiles}; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors https://web.telegram.org https://*.telegram.org 'self'"
)
OTHER_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def security_headers(settings: WebappSettings) -> dict[str, str]:
    tiles = "".join(" " + origin for origin in settings.tile_origins)
    return {"Content-Security-Policy": CSP.format(tiles=tiles), **OTHER_HEADERS}


MAX_BODY = 8192
Handler = Callable[[Request, AsyncSession, Viewer], Awaitable[Any]]


def cockpit_asgi(deps: WebDeps) -> Starlette:
    """The page and the API as one ASGI app (the webhook's server mounts it at the root)."""
    secure = security_headers(deps.settings.webapp)

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            try:
                async with transaction(deps.sessions) as session:
                    viewer = await sign_in(deps, session, header)
                    try:
                        result = await handler(request, session, viewer)
                    except UserFacingError as error:
                        status = 404 if error.key.endswith("not_found") else 409
                        body = views.error(deps.texts, viewer.lang, error.key, error.params)
                        # Raised to roll back whatever the call had begun.
                        raise _Answer(JSONResponse(body, status_code=status)) from None
            except Refused as refused:
                body = views.error(deps.texts, refused.lang, refused.key, {})
                return JSONResponse(body, status_code=refused.status, headers=secure)
            except _Answer as answer:
                answer.response.headers.update(secure)
                return answer.response
            if request.method == "POST":
                deps.wake()
            if isinstance(result, Response):
                result.headers.update(secure)
                return result
            return JSONResponse(result, headers=secure)

        return endpoint

    async def me(request: Request, session: AsyncSession, viewer: Viewer) -> dict[str, Any]:
        actor = viewer.actor
        choices = []
        if actor.role is not Role.MANAGER:
            choices = [{"id": t.id, "name": t.name} for t in await teams.list_teams(session)]
        return {
            "name": actor.display_name,
            "role": str(actor.role),
            "lang": viewer.lang,
            "team_id": actor.team_id,
            "teams": choices,
            "texts": views.page_texts(deps.texts, viewer.lang),
        }

    async def team_page(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        team = await _readable_team(session, deps, viewer, request.query_params.get("team"))
        # The page shows the previous period beside this one, not four back.
        summary = await build_team_summary(
            session, team, _period(request), team.today, with_details=False, trends=1
        )
        return views.team_page(deps.texts, viewer.lang, summary)

    async def rep_page(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        actor, rep_id = viewer.actor, int(request.path_params["id"])
        rep = await visits.visible_rep(session, actor, rep_id)
        if rep.team_id is None:
            raise UserFacingError("team.rep_not_found")
        team = await resolve(session, deps.settings, rep.team_id, deps.clock.now())
        window = window_for(team, _period(request), team.today)
        found = await visits.rep_visits(
            session, actor, rep_id, since=window.period.start, until=window.period.end,
            label=window.label,
        )  # fmt: skip
        return views.rep_page(deps.texts, viewer.lang, found, window)

    async def collections_page(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        team = await _readable_team(session, deps, viewer, request.query_params.get("team"))
        aging = await receivable_aging.aging(
            session, deps.settings, Scope(team_id=team.team_id), deps.clock.now()
        )
        return views.collections_page(deps.texts, viewer.lang, team.name, aging)

    async def company_page(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        if not viewer.actor.sees_all_teams():
            raise UserFacingError("webapp.team_not_found")
        now, kind = deps.clock.now(), _period(request)
        asked = []
        for listed in await teams.list_teams(session):
            assert listed.id is not None
            team = await resolve(session, deps.settings, listed.id, now)
            asked.append((team, team.today))
        rows = await build_team_summaries(session, asked, kind, with_details=False, trends=0)
        return views.company_page(deps.texts, viewer.lang, rows)

    async def map_page(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        team = await _readable_team(session, deps, viewer, request.query_params.get("team"))
        rep_id = await _rep_of_team(session, viewer, team, request.query_params.get("rep"))
        window = window_for(team, _period(request), team.today)
        settings = deps.settings.webapp
        points = await map_points.team_map(
            session, team.team_id, since=window.period.start, until=window.period.end,
            rep_id=rep_id, gcj02=settings.tiles_gcj02,
        )  # fmt: skip
        tiles = None
        if settings.map_tiles:
            tiles = {"url": settings.map_tiles, "subdomains": settings.map_subdomains,
                     "attribution": settings.map_attribution}  # fmt: skip
        return views.map_page(deps.texts, viewer.lang, team.name, window, points, tiles)

    async def photo(request: Request, session: AsyncSession, viewer: Viewer) -> Response:
        stamped = await visits.stamped_photo(session, viewer.actor, int(request.path_params["id"]))
        if request.query_params.get("size") == "thumb":
            stamped = await photo_stamp.thumbnail_off_loop(stamped)
        return Response(stamped, media_type="image/jpeg")

    async def queue(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        env = _env(deps)
        waiting = await approval_lists.pending_for(session, env, viewer.actor)
        items = []
        for waiting_request in waiting[:50]:
            data = await approval_cards.load(session, env, waiting_request)
            items.append(views.approval_item(deps.texts, viewer.lang, data))
        return {"items": items}

    async def decide(request: Request, session: AsyncSession, viewer: Viewer) -> Any:
        body = await _json_body(request)
        action = {"approve": approvals.Action.APPROVE, "reject": approvals.Action.REJECT}.get(
            str(body.get("action"))
        )
        step, reason = body.get("step"), body.get("reason", "")
        if action is None or not isinstance(step, int) or not isinstance(reason, str):
            raise UserFacingError("webapp.bad_request")
        result = await approvals.decide(
            session, _env(deps), viewer.actor, request_id=int(request.path_params["id"]),
            step_no=step, action=action, reason=reason,
        )  # fmt: skip
        return {"id": result.request.id, "status": str(result.request.status)}

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=secure)

    async def to_page(request: Request) -> Response:
        return RedirectResponse("app/", status_code=308)

    routes = [
        Route("/app", to_page),
        Route("/app/", page),
        Mount("/app/static", app=StaticFiles(directory=STATIC), name="static"),
        Route("/api/me", api(me)),
        Route("/api/team", api(team_page)),
        Route("/api/rep/{id:int}", api(rep_page)),
        Route("/api/collections", api(collections_page)),
        Route("/api/company", api(company_page)),
        Route("/api/map", api(map_page)),
        Route("/api/photo/{id:int}", api(photo)),
        Route("/api/approvals", api(queue)),
        Route("/api/approvals/{id:int}", api(decide), methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, minimum_size=1024)])


class _Answer(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _period(request: Request) -> PeriodKind:
    return "month" if request.query_params.get("period") == "month" else "week"


def _env(deps: WebDeps) -> Env:
    return Env(settings=deps.settings, render=deps.render, now=deps.clock.now())


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise UserFacingError("webapp.bad_request")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise UserFacingError("webapp.bad_request") from None
    if not isinstance(body, dict):
        raise UserFacingError("webapp.bad_request")
    return body


async def _readable_team(
    session: AsyncSession, deps: WebDeps, viewer: Viewer, asked: str | None
) -> TeamContext:
    """The team whose figures the viewer asked for, by the /summary rule: a manager's own team
    only; directors and admins any team that is not archived (default: their own, else the
    first). Another's team is "not found", never "not yours"."""
    actor, now = viewer.actor, deps.clock.now()
    wanted: int | None = int(asked) if asked and asked.isdigit() else None
    if asked and wanted is None:
        raise UserFacingError("webapp.team_not_found")
    if actor.role is Role.MANAGER:
        if actor.team_id is None or wanted not in (None, actor.team_id):
            raise UserFacingError("webapp.team_not_found")
        return await resolve(session, deps.settings, actor.team_id, now)
    if wanted is None:
        wanted = actor.team_id
        if wanted is None:
            listed = await teams.list_teams(session)
            if not listed or listed[0].id is None:
                raise UserFacingError("webapp.team_not_found")
            wanted = listed[0].id
    team = await teams.get_team(session, wanted)
    if team is None or team.archived:
        raise UserFacingError("webapp.team_not_found")
    return await resolve(session, deps.settings, wanted, now)


async def _rep_of_team(
    session: AsyncSession, viewer: Viewer, team: TeamContext, asked: str | None
) -> int | None:
    """The rep the Map is narrowed to: one the viewer may see (the /team rule) and of ``team``;
    anyone else is "not found"."""
    if not asked:
        return None
    if not asked.isdigit():
        raise UserFacingError("team.rep_not_found")
    rep = await visits.visible_rep(session, viewer.actor, int(asked))
    if rep.team_id != team.team_id or rep.id is None:
        raise UserFacingError("team.rep_not_found")
    return rep.id
