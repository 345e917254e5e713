import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { BrowserRouter } from 'react-router';
import App from './app/App';
import { LiveConnection } from './features/live/connection';
import { LiveContext } from './features/live/LiveContext';
import { makeStore } from './app/store';
import './index.css';

const store = makeStore();
const live = new LiveConnection(store);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider store={store}>
      <LiveContext.Provider value={live}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </LiveContext.Provider>
    </Provider>
  </StrictMode>,
);
