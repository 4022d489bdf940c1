# --- WeCom application (wecom_app) ---
# export QYWX_AM=""  # corpid,corpsecret,touser,agentid[,media_id]; touser: ids joined by | or @all (secret)
# export QYWX_ORIGIN=""  # replaces https://qyapi.weixin.qq.com (reverse proxy); shared with wecom_bot
