"""An in-memory store of compiled flows by (id, version), with publish-new-version semantics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnidesk.flows.context import FlowContext
from omnidesk.flows.errors import FlowVersionError
from omnidesk.flows.flow import Flow
from omnidesk.flows.interpreter import advance, start
from omnidesk.flows.protocol import FlowInput, Step
from omnidesk.flows.state import FlowState


class FlowRegistry:
    """Holds every published version; new interactions start on the latest, live ones stay put."""

    def __init__(self) -> None:
        self._flows: dict[tuple[str, int], Flow] = {}
        self._latest: dict[str, int] = {}

    def publish(self, flow: Flow) -> Flow:
        """Add a new version; it must be higher than the latest (same content again is a no-op)."""
        key = (flow.id, flow.version)
        existing = self._flows.get(key)
        if existing is not None:
            if existing.document != flow.document:
                raise FlowVersionError(
                    f"flow {flow.id} v{flow.version} is already published with other content"
                )
            return existing
        latest = self._latest.get(flow.id, 0)
        if flow.version <= latest:
            raise FlowVersionError(
                f"flow {flow.id} v{flow.version} must be newer than the latest v{latest}"
            )
        self._flows[key] = flow
        self._latest[flow.id] = flow.version
        return flow

    def get(self, flow_id: str, version: int | None = None) -> Flow:
        """A published flow: the given version, or the latest."""
        wanted = self._latest.get(flow_id) if version is None else version
        flow = self._flows.get((flow_id, wanted)) if wanted is not None else None
        if flow is None:
            label = "any version" if version is None else f"v{version}"
            raise FlowVersionError(f"flow {flow_id} has no published {label}")
        return flow

    def versions(self, flow_id: str) -> list[int]:
        """The published versions of a flow, oldest first."""
        return sorted(version for fid, version in self._flows if fid == flow_id)

    def flow_for(self, state: FlowState) -> Flow:
        """The exact flow version a live interaction started on."""
        return self.get(state.flow_id, state.version)

    def start(
        self,
        flow_id: str,
        context: FlowContext,
        *,
        entry: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Step:
        """Start the latest version of a flow."""
        return start(self.get(flow_id), context, entry=entry, attributes=attributes)

    def advance(self, state: FlowState, event: FlowInput, context: FlowContext) -> Step:
        """Advance a live interaction on the version it started on."""
        return advance(self.flow_for(state), state, event, context)
