import { requireLogin } from "./common/omnidesk.js";

requireLogin(document.getElementById("app"), "agent", async (session) => {
  document.getElementById("app").textContent = "Signed in as " + session.user.email;
});
