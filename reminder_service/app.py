"""The composition root: configuration in, wired parts out. Everything else receives what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from calendars.library import BUILTIN_DIRECTIVES, DirectiveLibrary, UnknownDirectiveError, load_library
from calendars.model import Directive, YearCalendar
from calendars.workdays import WorkCalendar
from reminder_service.config import Config
from reminder_service.domain.errors import UserError
from reminder_service.services.db.engine import make_engine, session_factory, upgrade


@dataclass
class App:
    config: Config
    workdays: WorkCalendar
    library: DirectiveLibrary
    _calendars: dict[int, YearCalendar] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> App:
        settings = config.calendar
        try:
            workdays = WorkCalendar(settings.extra_days_off, settings.extra_working_days)
        except ValueError:
            both = sorted(set(settings.extra_days_off) & set(settings.extra_working_days))
            listed = ", ".join(d.strftime("%d/%m/%Y") for d in both)
            raise UserError(
                f"Cấu hình [calendar]: ngày {listed} vừa nằm trong extra_days_off vừa trong "
                "extra_working_days; hãy giữ ở một danh sách."
            ) from None
        folders = [BUILTIN_DIRECTIVES]
        if settings.directives_dir is not None:
            folders.append(settings.directives_dir)
        library = load_library(folders)
        app = cls(config=config, workdays=workdays, library=library)
        app.directive_versions()  # fail now, with a clear message, if the configured directive is unknown
        return app

    def directive_versions(self) -> tuple[Directive, ...]:
        try:
            return self.library.versions(self.config.calendar.directive)
        except UnknownDirectiveError as exc:
            raise UserError(
                f'Cấu hình [calendar].directive = "{exc.directive_id}" không có trong thư viện văn bản; '
                f"các văn bản hiện có: {', '.join(exc.known)}."
            ) from None

    def calendar(self, year: int) -> YearCalendar:
        if year not in self._calendars:
            self._calendars[year] = self.library.calendar(self.config.calendar.directive, year, self.workdays)
        return self._calendars[year]

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.database_url)

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def close(self) -> None:
        """Release database connections (only if any were opened)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def upgrade_schema(self) -> None:
        upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session
