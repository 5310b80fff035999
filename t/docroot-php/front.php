<?php
// A front controller, reached through server.error-handler(-404).
echo "uri=", $_SERVER["REQUEST_URI"], " script=", $_SERVER["SCRIPT_NAME"],
    " rs=", $_SERVER["REDIRECT_STATUS"] ?? "-", " ru=", $_SERVER["REDIRECT_URI"] ?? "-",
    " method=", $_SERVER["REQUEST_METHOD"], " qs=", $_SERVER["QUERY_STRING"],
    " body=", file_get_contents("php://input");
