console.log("js");
