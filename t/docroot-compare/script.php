<?php echo "excluded"; ?>
