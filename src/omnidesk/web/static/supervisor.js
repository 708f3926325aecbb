import { requireLogin } from "./common/omnidesk.js";

requireLogin(document.getElementById("app"), "supervisor", async (session) => {
  document.getElementById("app").textContent = "Signed in as " + session.user.email;
});
