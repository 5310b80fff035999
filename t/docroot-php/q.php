<?php echo "q=", $_SERVER["QUERY_STRING"], " body=", file_get_contents("php://input");
