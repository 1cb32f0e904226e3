"""The /docs page without inline code, so that a strict Content-Security-Policy can hold."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request

from api.openapi import ASSETS, OfflineSwaggerPlugin

# Swagger UI runs only the app's own scripts and styles and fetches only the app's own
# document; its stylesheet embeds icons as data: URLs. No inline script or style runs.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)


class DocsPage(OfflineSwaggerPlugin):
    """Swagger UI from the app's assets, started by a script file that loads /openapi.json."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API reference")))
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link href="{self.css_url}" rel="stylesheet">
  <link href="{ASSETS}/docs.css" rel="stylesheet">
  <script src="{self.js_url}"></script>
  <script src="{self.standalone_preset_js_url}"></script>
</head>
<body>
  <div id="swagger-container"></div>
  <script src="{ASSETS}/init.js"></script>
</body>
</html>
"""
        return page.encode()
