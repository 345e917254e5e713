import { Navigate, Outlet, useLocation } from 'react-router';
import Loading from '../components/Loading';
import { useAppSelector } from './store';

export default function RequireAuth() {
  const status = useAppSelector((s) => s.auth.status);
  const loggedOut = useAppSelector((s) => s.auth.loggedOut);
  const loc = useLocation();
  if (status === 'unknown') return <Loading label="Checking your session…" page />;
  if (status === 'anonymous') {
    if (loggedOut) return <Navigate to="/login" replace />;
    const next = loc.pathname + loc.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}
