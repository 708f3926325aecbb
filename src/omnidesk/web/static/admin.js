import { requireLogin } from "./common/omnidesk.js";

requireLogin(document.getElementById("app"), "admin", async (session) => {
  document.getElementById("app").textContent = "Signed in as " + session.user.email;
});
