# --- PushDeer (pushdeer) ---
# export DEER_KEY=""  # push key PDU... from the app's Key tab (secret)
# export DEER_URL=""  # full endpoint of a self-hosted server; default https://api2.pushdeer.com/message/push
