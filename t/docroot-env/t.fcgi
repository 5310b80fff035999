placeholder: the backend answers for this name
