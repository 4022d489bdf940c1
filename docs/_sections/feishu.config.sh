# --- Feishu / Lark bot (feishu) ---
# export FSKEY=""  # hook id from .../open-apis/bot/v2/hook/<id>, or that whole webhook URL (secret)
# export FSSECRET=""  # signing secret when the bot has signature verification on (secret)
# export MCP_PUSH_FEISHU_BASE_URL=""  # https://open.larksuite.com for Lark; default https://open.feishu.cn
