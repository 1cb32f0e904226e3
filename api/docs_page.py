"""The /docs page: Swagger UI from the app's own assets, with no inline code and no internet."""

from __future__ import annotations

from litestar import MediaType, get

ASSETS = "/docs/assets"
TITLE = "Experi API"

# Swagger UI runs only the app's own scripts and styles and fetches only the app's own
# document; its stylesheet embeds icons as data: URLs. No inline script or style runs.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)

PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{TITLE}</title>
  <link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
  <link href="{ASSETS}/swagger-ui.css" rel="stylesheet">
  <link href="{ASSETS}/docs.css" rel="stylesheet">
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
</head>
<body>
  <div id="swagger-container"></div>
  <script src="{ASSETS}/init.js"></script>
</body>
</html>
"""


@get("/docs", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def docs_page() -> str:
    """The interactive reference; its script loads /openapi.json."""
    return PAGE
