# --- Custom webhook (webhook) ---
# export WEBHOOK_URL=""  # the URL; $title and $content in it are replaced, URL-encoded
# export WEBHOOK_METHOD=""  # GET, POST, PUT, PATCH or DELETE
# export WEBHOOK_CONTENT_TYPE=""  # application/json (default with a body), application/x-www-form-urlencoded, multipart/form-data or text/plain
# export WEBHOOK_HEADERS=""  # extra headers, one "Name: value" per line
# export WEBHOOK_BODY=""  # "key: value" lines ($title/$content replaced, escaped for the format), or any text for text/plain
