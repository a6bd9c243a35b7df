<?php
$db_password = '8TAXTxICX7U7!';
$db_host = "localhost";
