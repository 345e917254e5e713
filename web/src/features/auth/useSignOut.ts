import { useCallback } from 'react';
import { useNavigate } from 'react-router';
import { useAppDispatch } from '../../app/store';
import { loggedOut, resetAll } from './authSlice';

/** Forget everything of the signed-out user in this tab (socket, caches, stores) and go to the login page. */
export function useSignOut(): () => void {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  return useCallback(() => {
    dispatch(resetAll()); // the listeners close the socket and drop the caches and seekers (app/listeners.ts)
    dispatch(loggedOut());
    navigate('/login', { replace: true });
  }, [dispatch, navigate]);
}
