# ~/.bashrc
export PATH="$HOME/bin:$PATH"
export HISTSIZE=5000
export DEPLOY_TOKEN_FILE=/run/secrets/deploy
export SMTP_PASSWORD="hunter22"
export API_TOKEN=$(cat ~/.config/api-token)
