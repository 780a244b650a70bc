"""Driving the canvas with the mouse, as a person would: palette drags, cable drags, clicks.

Only positions are read from the page (where Cytoscape drew a node); every change goes through
real mouse and keyboard events.
"""

from __future__ import annotations

from typing import Any

# Two namespaces on one cable: the smallest lab the editing and sharing tests start from.
PAIR = {
    "format": "netdesigner/v1",
    "name": "pair",
    "nodes": [{"name": "red", "kind": "namespace"}, {"name": "blue", "kind": "namespace"}],
    "links": [{"a": {"node": "red", "interface": "veth-red", "addresses": ["10.9.0.1/24"]},
               "b": {"node": "blue", "interface": "veth-blue", "addresses": ["10.9.0.2/24"]}}],
    "layout": {"red": {"x": 100, "y": 200}, "blue": {"x": 400, "y": 200}},
}


def canvas_box(page: Any) -> dict[str, float]:
    box = page.locator("#cy").bounding_box()
    assert box is not None
    return box  # type: ignore[no-any-return]


def node_point(page: Any, name: str) -> tuple[float, float]:
    """The page coordinates of a drawn node's centre."""
    pos = page.evaluate(
        """(name) => {
            const cy = window.netdesigner.cy;
            const n = cy.nodes().filter((x) => x.data('name') === name)[0];
            if (!n) return null;
            const r = document.getElementById('cy').getBoundingClientRect();
            const p = n.renderedPosition();
            return [r.left + p.x, r.top + p.y];
        }""",
        name,
    )
    assert pos is not None, f"node {name} is not drawn"
    return pos[0], pos[1]


def node_names(page: Any) -> list[str]:
    return page.evaluate("() => window.netdesigner.cy.nodes().map((n) => n.data('name'))")  # type: ignore[no-any-return]


def drag_from_palette(page: Any, kind: str, x: float, y: float) -> None:
    """Press on the palette item, move onto the canvas, release."""
    item = page.locator(f".palette-item[data-kind={kind}]")
    box = item.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    page.mouse.up()


def drag_cable(page: Any, source: str, target: str) -> None:
    """With the Cable tool on: press on the source node, drag onto the target, hover, release."""
    sx, sy = node_point(page, source)
    tx, ty = node_point(page, target)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=8)
    page.mouse.move(tx, ty, steps=8)
    page.wait_for_timeout(250)  # edgehandles snaps to the target at 15 Hz
    page.mouse.move(tx + 2, ty + 1, steps=2)
    page.wait_for_timeout(150)
    page.mouse.up()


def click_node(page: Any, name: str) -> None:
    x, y = node_point(page, name)
    page.mouse.click(x, y)


def tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def handle_point(page: Any, node: str) -> tuple[float, float]:
    """Hover a node (select mode) and return the centre of the cable handle (the dot) shown on it."""
    x, y = node_point(page, node)
    page.mouse.move(x - 3, y + 2, steps=4)
    page.mouse.move(x, y, steps=2)
    dot = page.locator("[data-testid=cable-handle]")
    dot.wait_for(state="visible")
    box = dot.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_cable_from_handle(page: Any, source: str, target: str, screenshot: str | None = None) -> None:
    """In select mode: hover the source, press on its dot, drag onto the target, hover, release
    (with a screenshot of the cable being drawn just before the release, when asked)."""
    hx, hy = handle_point(page, source)
    tx, ty = node_point(page, target)
    page.mouse.move(hx, hy, steps=3)
    page.mouse.down()
    page.mouse.move((hx + tx) / 2, (hy + ty) / 2, steps=8)
    page.mouse.move(tx, ty, steps=8)
    page.wait_for_timeout(250)  # edgehandles snaps to the target at 15 Hz
    page.mouse.move(tx + 2, ty + 1, steps=2)
    page.wait_for_timeout(150)
    if screenshot:
        page.screenshot(path=screenshot)
    page.mouse.up()
