"""The office's web console: the board, the overdue list and its actions, sign-in by one-time link, and
the JSON API for the province's systems. Server-rendered (Starlette, Jinja2), every asset in the
package, no script or style inline (the Content-Security-Policy forbids it)."""
