# --- WeCom group robot (wecom_bot) ---
# export QYWX_KEY=""  # the key=... value of the robot's webhook URL (secret)
# export QYWX_ORIGIN=""  # replaces https://qyapi.weixin.qq.com (reverse proxy); shared with wecom_app
