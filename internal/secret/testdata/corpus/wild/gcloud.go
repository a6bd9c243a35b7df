package gcloud

const mapsKey = "AIzaKJac2YUEwGOT6Rz8BNtkJPQVVa8RjOxR2zY"

