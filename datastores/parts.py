"""The connected data stores' part of each request, registered into dsar's request hooks."""

from dsar.request_parts import RequestPartHandler, request_part_handler


@request_part_handler
class DataStores(RequestPartHandler):
    def erasure_started(self, *, request, subjects) -> None:
        from .services import parts_create_for_erasure, request_phones

        parts_create_for_erasure(
            request=request, subjects=list(subjects), phones=request_phones(request)
        )

    def completion_blockers(self, request) -> list[str]:
        from .services import parts_blockers

        return parts_blockers(request)

    def export_sections(self, *, request, subjects):
        from .services import export_sections, request_phones

        return export_sections(subjects=list(subjects), phones=request_phones(request))
