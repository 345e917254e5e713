import { Suspense, useEffect } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { api } from '../api/http';
import { describeError, isServerDown } from '../api/errors';
import AppShell from './AppShell';
import Loading from '../components/Loading';
import PageBoundary from '../components/PageBoundary';
import { lazyPage } from '../lib/lazyPage';
import LoginPage from '../features/auth/LoginPage';
import SwarmsPage from '../features/swarms/SwarmsPage';
import SwarmLayout from '../features/swarms/SwarmLayout';
import ChatPage from '../features/chat/ChatPage';
import NotFound from './NotFound';
import AccountPage from '../features/auth/AccountPage';
import { useAppDispatch } from './store';
import { anonymous, loggedIn } from '../features/auth/authSlice';
import RequireAuth from './RequireAuth';

const TreePage = lazyPage(() => import('../features/tree/TreePage'));
const ActionsPage = lazyPage(() => import('../features/spaces/ActionsPage'));
const MemoryPage = lazyPage(() => import('../features/spaces/MemoryPage'));
const BenchPage = lazyPage(() => import('../bench/BenchPage'));

function useSessionCheck() {
  const dispatch = useAppDispatch();
  useEffect(() => {
    const req = dispatch(api.endpoints.me.initiate(undefined, { subscribe: false, forceRefetch: true }));
    req
      .unwrap()
      .then((user) => dispatch(loggedIn(user)))
      .catch((e: unknown) => dispatch(anonymous(isServerDown(e) ? describeError(e) : null)));
  }, [dispatch]);
}

export default function App() {
  useSessionCheck();
  return (
    <PageBoundary what="app">
      <Suspense fallback={<Loading label="Loading…" page />}>
        <Routes>
          <Route path="/__bench" element={<BenchPage />} />
          <Route element={<AppShell />}>
            <Route path="/login" element={<LoginPage key="login" mode="login" />} />
            <Route path="/signup" element={<LoginPage key="signup" mode="signup" />} />
            <Route element={<RequireAuth />}>
              <Route index element={<Navigate to="/swarms" replace />} />
              <Route path="/swarms" element={<SwarmsPage />} />
              <Route path="/account" element={<AccountPage />} />
              <Route path="/swarms/:swarmId" element={<SwarmLayout />}>
                <Route index element={<Navigate to="chat" replace />} />
                <Route path="chat" element={<ChatPage />} />
                <Route path="chat/:chatId" element={<ChatPage />} />
                <Route
                  path="tree"
                  element={
                    <Suspense fallback={<Loading label="Loading the tree view…" />}>
                      <TreePage />
                    </Suspense>
                  }
                />
                <Route
                  path="actions"
                  element={
                    <Suspense fallback={<Loading label="Loading the action space…" />}>
                      <ActionsPage />
                    </Suspense>
                  }
                />
                <Route
                  path="memory"
                  element={
                    <Suspense fallback={<Loading label="Loading the memory space…" />}>
                      <MemoryPage />
                    </Suspense>
                  }
                />
              </Route>
            </Route>
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </Suspense>
    </PageBoundary>
  );
}
