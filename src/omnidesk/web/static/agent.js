import { requireLogin } from "./common/omnidesk.js";
import { startDesktop } from "./agent/desktop.js";

const root = document.getElementById("app");
requireLogin(root, "agent", (session) => startDesktop(root, session));
