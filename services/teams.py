"""Teams: the database mirrors the teams declared in config.toml."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import Settings
from models.team import Team
from services import audit


@dataclass
class TeamSync:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


async def sync_teams(session: AsyncSession, settings: Settings, now: datetime) -> TeamSync:
    """Create or update every declared team; archive (never delete) teams no longer declared."""
    result = TeamSync()
    declared = settings.team_settings
    existing = {team.key: team for team in (await session.exec(select(Team))).all()}
    for key, team_settings in declared.items():
        team = existing.get(key)
        name = team_settings.name or key
        if team is None:
            team = Team(
                key=key, name=name, timezone=team_settings.timezone, created_at=now, updated_at=now
            )
            session.add(team)
            await session.flush()
            result.created.append(key)
            audit.record(
                session, at=now, action="team.created", entity="team", entity_id=team.id,
                actor_label="config", after={"key": key, "name": name},
            )  # fmt: skip
            continue
        before = {"name": team.name, "timezone": team.timezone, "archived": team.archived}
        after = {"name": name, "timezone": team_settings.timezone, "archived": False}
        if before != after:
            if team.archived:
                result.restored.append(key)
            else:
                result.updated.append(key)
            team.name, team.timezone, team.archived = name, team_settings.timezone, False
            team.updated_at = now
            session.add(team)
            audit.record(
                session, at=now, action="team.updated", entity="team", entity_id=team.id,
                actor_label="config", before=before, after=after,
            )  # fmt: skip
    for key, team in existing.items():
        if key not in declared and not team.archived:
            team.archived = True
            team.updated_at = now
            session.add(team)
            result.archived.append(key)
            audit.record(
                session, at=now, action="team.archived", entity="team", entity_id=team.id,
                actor_label="config", reason="no longer declared in config.toml",
            )  # fmt: skip
    await session.flush()
    return result


async def list_teams(session: AsyncSession, *, include_archived: bool = False) -> list[Team]:
    query = select(Team).order_by(col(Team.archived), col(Team.name))
    if not include_archived:
        query = query.where(col(Team.archived).is_(False))
    return list((await session.exec(query)).all())


async def get_team(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def find_team(session: AsyncSession, key_or_name: str) -> Team | None:
    """A team by its config key or its display name, case-insensitively."""
    wanted = key_or_name.strip().lower()
    for team in await list_teams(session, include_archived=True):
        if wanted in (team.key.lower(), team.name.lower()):
            return team
    return None
