<?php
header("X-Php: yes");
echo "hello from php ", PHP_SAPI, " path_info=", $_SERVER["PATH_INFO"] ?? "-", " body=", file_get_contents("php://input");
