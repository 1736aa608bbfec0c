// The chat page's module script (index.html): start the page, explicitly.

import { startChatPage } from "./app.js";

startChatPage(window);
